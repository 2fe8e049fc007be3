"""`python -m greenbond.backoffice ...`: see greenbond.backoffice.accounts."""

import sys

from greenbond.backoffice.accounts import main

sys.exit(main())
