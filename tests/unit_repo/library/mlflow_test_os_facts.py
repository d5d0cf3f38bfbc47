#!/usr/bin/python
"""TEST-ONLY facts module: this host "runs" the release in MLFLOW_TEST_OS_FACTS.

The preflight tests run on the controller (ansible_connection=local), a tested platform. To see preflight
refuse another release, they add this module after setup (ANSIBLE_FACTS_MODULES) with, in the environment,
"<distribution>|<version>|<release>|<os family>", such as "Debian|14|forky|Debian". Its facts override setup's.
"""

import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    distribution, version, release, family = os.environ["MLFLOW_TEST_OS_FACTS"].split("|")
    module.exit_json(
        changed=False,
        ansible_facts={
            "distribution": distribution,
            "distribution_version": version,
            "distribution_major_version": version.split(".")[0],
            "distribution_release": release,
            "os_family": family,
        },
    )


if __name__ == "__main__":
    main()
