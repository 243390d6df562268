"""Generated Amazon States Language definitions, committed so deployments and reviews can see them."""

from pathlib import Path

DEFINITIONS_DIR = Path(__file__).resolve().parent
# Substituted at deploy time with the ARN of the Lambda that Zappa deploys (see docs/deploy.md).
STEP_FUNCTION_ARN = "${CloudKidaStepFunctionArn}"


def render_all() -> dict[str, str]:
    from tenants.services.onboarding import FAILURE_STEP, ONBOARDING

    return {"onboarding": ONBOARDING.state_machine_json(step_function_arn=STEP_FUNCTION_ARN, failure_step=FAILURE_STEP)}
