from imle_cli.main import run

run()
