"""Audio from the bucket into the project: which objects, and fetching them."""
