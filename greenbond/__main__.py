"""`python -m greenbond <subcommand>`; see greenbond/cli.py."""

import sys

from greenbond.cli import main

sys.exit(main())
