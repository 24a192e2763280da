"""``python -m simulator`` runs the ``negsim`` command line."""

from simulator.cli import main

if __name__ == "__main__":
    main()
