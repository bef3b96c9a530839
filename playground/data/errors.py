class DataError(ValueError):
    """Input data that cannot be used; the message is one clear sentence for the user."""
