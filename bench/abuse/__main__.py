import sys

from bench.abuse.campaign import main

sys.exit(main())
