"""``modelarts.config``: configuration objects of the model and service calls."""
