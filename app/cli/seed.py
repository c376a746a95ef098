"""placeholder replaced below (the seed helper writes the real command)"""
import click


@click.command("seed-demo")
def seed_demo_command() -> None:
    raise click.ClickException("seed-demo is being written")
