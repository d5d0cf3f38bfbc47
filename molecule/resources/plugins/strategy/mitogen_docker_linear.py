"""Test harness only, not shipped: Mitogen's linear strategy for the molecule scenarios' containers.

Ansible starts a Python interpreter in the container for every module it runs; on CI's 2 cores that start, not
the module's work, is most of an unchanged site run (a task about 0.45 s; alone, `default@debian13`'s converge
took 98 s with Mitogen). Mitogen keeps one interpreter per host. It redirects only the short connection names
(`docker`); molecule's hosts use `community.docker.docker`, mapped here. Plays on the controller (molecule's create
and destroy, with async jobs, and the tests' local plays) keep Ansible's own local connection.
The `default` scenario on Debian 12 runs Ansible's own `linear` strategy, as users do (scripts/test.sh).
"""

import ansible_mitogen.loaders
import ansible_mitogen.strategy as mitogen_strategy

mitogen_strategy.REDIRECTED_CONNECTION_PLUGINS = ("docker", "community.docker.docker")
_redirect = mitogen_strategy.wrap_connection_loader__get_with_context


def _get_with_context(name, *args, **kwargs):
    return _redirect("docker" if name == "community.docker.docker" else name, *args, **kwargs)


# read by the strategy when it installs its loader wrappers, at the start of each play
mitogen_strategy.wrap_connection_loader__get_with_context = _get_with_context

Base = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(mitogen_strategy.StrategyMixin, Base):
    pass
