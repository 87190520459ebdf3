"""Platform logic behind /v1/health, /v1/version and /v1/models: health checks and the model catalogue."""
