from tactful.main import run

run()
