import sys

from app.cli import main

# Guarded: the engine process is started with ``spawn``, which must never run the server again.
if __name__ == "__main__":
    sys.exit(main())
