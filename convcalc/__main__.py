from convcalc.cli.script import main

if __name__ == "__main__":
    main()
