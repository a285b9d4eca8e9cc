from callcoach.cli.main import main

raise SystemExit(main())
