from nightly_batch.cli import main

raise SystemExit(main())
