"""Generated Amazon States Language definitions, committed so deployments and reviews can see them."""

from pathlib import Path

from cloudkida.workflows import FAILURE_STEP, all_registered

DEFINITIONS_DIR = Path(__file__).resolve().parent
# Substituted at deploy time with the ARN of the Lambda that Zappa deploys (see docs/deploy.md).
STEP_FUNCTION_ARN = "${CloudKidaStepFunctionArn}"


def render_all() -> dict[str, str]:
    return {
        name: entry.workflow.state_machine_json(step_function_arn=STEP_FUNCTION_ARN, failure_step=FAILURE_STEP)
        for name, entry in all_registered().items()
    }
