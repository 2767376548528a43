from esptk.cli import run

run()
