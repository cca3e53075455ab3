"""Generated gRPC modules for the arangopipe.v1 API (see scripts/generate.py). Do not edit."""
