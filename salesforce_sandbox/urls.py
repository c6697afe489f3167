"""The sandbox org's URLs: Salesforce's own paths at the root, plus a local operator page and controls."""

from django.urls import path, re_path

from .views import bulk, bulk_v1, control, oauth, rest, streaming

V = r"^services/data/v(?P<version>[^/]+)"
A = r"^services/async/(?P<version>[0-9.]{1,8})/job"
J = r"/(?P<job_id>[A-Za-z0-9]{1,18})"
B = r"/batch/(?P<batch_id>[A-Za-z0-9]{1,18})"
S = r"(?P<sobject>[A-Za-z0-9_]+)"

urlpatterns = [
    path("", control.home, name="home"),
    path("login", control.sign_in, name="sign-in"),
    path("logout", control.sign_out, name="sign-out"),
    path("_sandbox/status", control.status, name="status"),
    path("_sandbox/faults", control.faults, name="faults"),
    # OAuth 2.0 and identity
    path("services/oauth2/authorize", oauth.authorize, name="oauth-authorize"),
    path("services/oauth2/authorize/login", oauth.login, name="oauth-login"),
    path("services/oauth2/authorize/approve", oauth.approve, name="oauth-approve"),
    path("services/oauth2/token", oauth.token, name="oauth-token"),
    path("services/oauth2/revoke", oauth.revoke, name="oauth-revoke"),
    path("services/oauth2/userinfo", oauth.userinfo, name="oauth-userinfo"),
    path("id/keys", oauth.keys, name="oidc-keys"),
    path(".well-known/openid-configuration", oauth.openid_configuration, name="oidc-configuration"),
    path("id/<str:org_id>/<str:user_id>", oauth.identity, name="identity"),
    # REST API
    re_path(r"^services/data/?$", rest.versions_list, name="versions"),
    re_path(V + r"/?$", rest.resources, name="resources"),
    re_path(V + r"/sobjects/?$", rest.describe_global, name="describe-global"),
    re_path(V + r"/sobjects/" + S + r"/describe/?$", rest.describe, name="describe"),
    re_path(V + r"/sobjects/" + S + r"/updated/?$", rest.updated, name="updated"),
    re_path(V + r"/sobjects/" + S + r"/deleted/?$", rest.deleted, name="deleted"),
    re_path(V + r"/sobjects/" + S + r"/?$", rest.sobject_root, name="sobject"),
    re_path(V + r"/sobjects/" + S + r"/(?P<sf_id>[A-Za-z0-9]+)/?$", rest.record, name="record"),
    re_path(V + r"/query/?$", rest.query, name="query"),
    re_path(V + r"/queryAll/?$", rest.query_all, name="query-all"),
    re_path(
        V + r"/(?:query|queryAll)/(?P<locator>[A-Za-z0-9]+-[0-9]+)/?$", rest.query_more, name="query-more"
    ),
    re_path(V + r"/limits/?$", rest.limits, name="limits"),
    re_path(V + r"/composite/batch/?$", rest.composite_batch, name="composite-batch"),
    re_path(V + r"/composite/sobjects/?$", rest.composite_sobjects, name="composite-sobjects"),
    # Streaming API (CometD / Bayeux long polling): Change Data Capture channels
    re_path(r"^cometd/(?P<version>[0-9.]{1,8})/?$", streaming.cometd, name="cometd"),
    # Bulk API 2.0 query jobs
    re_path(V + r"/jobs/query/?$", bulk.jobs, name="bulk-jobs"),
    re_path(V + r"/jobs/query/(?P<job_id>[A-Za-z0-9]+)/?$", bulk.job, name="bulk-job"),
    re_path(V + r"/jobs/query/(?P<job_id>[A-Za-z0-9]+)/results/?$", bulk.results, name="bulk-results"),
    # Bulk API 1.0 query jobs
    re_path(A + r"/?$", bulk_v1.jobs, name="async-jobs"),
    re_path(A + J + r"/?$", bulk_v1.job, name="async-job"),
    re_path(A + J + r"/batch/?$", bulk_v1.batches, name="async-batches"),
    re_path(A + J + B + r"/?$", bulk_v1.batch, name="async-batch"),
    re_path(A + J + B + r"/request/?$", bulk_v1.batch_request, name="async-batch-request"),
    re_path(A + J + B + r"/result/?$", bulk_v1.results, name="async-results"),
    re_path(A + J + B + r"/result/(?P<result_id>[A-Za-z0-9]{1,18})/?$", bulk_v1.result, name="async-result"),
]

handler400 = "salesforce_sandbox.views.control.bad_request"
handler404 = "salesforce_sandbox.views.control.page_not_found"
handler500 = "salesforce_sandbox.views.control.server_error"
