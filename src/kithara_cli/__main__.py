from kithara_cli.cli import main

main()
