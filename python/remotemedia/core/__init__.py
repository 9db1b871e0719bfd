"""Pipeline machinery: nodes, parameters, registry, manifest, executor."""
