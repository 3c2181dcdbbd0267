"""The outside world: object storage, embedding providers and vector stores.

One folder per role, one module (or folder) per backend. SDKs are imported inside the backend
that needs them, so importing a registry never pulls in an SDK the user did not install.
"""
