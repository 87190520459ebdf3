"""WebSocket $connect and $disconnect of the live-updates API: remember or forget the dashboard's connection."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from finscore.products.risk.live import service
from finscore.observability import logger, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), request.get("connectionId")
    if not connection_id or route not in ("$connect", "$disconnect"):
        logger.warning("Not a WebSocket connect or disconnect event", extra={"route": route})
        return {"statusCode": 400, "body": "expected a $connect or $disconnect event with a connectionId"}
    if route == "$connect":
        if not service.admits(event.get("queryStringParameters")):
            logger.warning("WebSocket connection refused: no valid access token", extra={"connection_id": connection_id})
            return {"statusCode": 401, "body": "a valid access token is needed: ?token=<access token>"}
        service.connect(connection_id)
    else:
        service.disconnect(connection_id)
    logger.info("WebSocket connection change", extra={"route": route, "connection_id": connection_id})
    return {"statusCode": 200}
