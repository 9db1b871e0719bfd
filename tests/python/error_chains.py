"""What two runtimes' exceptions must share to count as the same error, down their __context__
chains (tests of cleanup errors in runs and sessions)."""


def describe(exc):
    """Class, message, node, item and notes."""
    return (type(exc), str(exc), getattr(exc, "node_id", None), getattr(exc, "item_index", None),
            getattr(exc, "__notes__", None))


def context_chain(exc, limit: int = 10) -> list:
    """describe() of the exception and of each one it replaced (__context__), newest first."""
    chain = []
    while exc is not None and len(chain) < limit:
        chain.append(describe(exc))
        exc = exc.__context__
    return chain
