"""Web requests call Salesforce with a short timeout and no retries (see `salesforce.base.page_time_calls`)."""

from __future__ import annotations

from integrations.salesforce.base import page_time_calls


class PageTimeCallsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only pages being shown: an action a person asked for (retry errors, a preview) may take longer.
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        with page_time_calls():
            return self.get_response(request)
