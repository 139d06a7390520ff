from leadscore.cli.app import main

main()
