"""Audio files through libsndfile (the soundfile package). Not written yet."""

__all__: list[str] = []
