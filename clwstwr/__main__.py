from clwstwr.cli import main

main()
