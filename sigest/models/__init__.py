"""Pure torch networks, one file per architecture. Nothing here imports sklearn or skorch."""
