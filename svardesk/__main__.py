from svardesk.cli import main

main()
