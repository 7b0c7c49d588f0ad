"""The starter that `infra init` writes: files copied as they are into the user's directory."""
