"""The rate limits, one row each, for docs/reliability.md. Cheap: no database, no Redis.

Each row names the test that proves it (its pytest node id). The defaults come from
config/settings/base.py and can be changed with the environment variables named there.
"""

_RL = "tests/security/test_rate_limits.py"


def _rate(name: str) -> str:
    from django.conf import settings

    hits, seconds = getattr(settings, name)
    period = f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
    return f"{hits} per {period}"


def _allauth(action: str) -> str:
    from django.conf import settings

    units = {"s": "s", "m": "min", "h": "h", "d": "day"}
    parts = []
    for rate in settings.ACCOUNT_RATE_LIMITS[action].split(","):
        hits, period, per = rate.strip().split("/")
        count, unit = period[:-1] or "1", units[period[-1]]
        period = unit if count == "1" else f"{count} {unit}"
        parts.append(f"{hits} per {period} per {'IP' if per == 'ip' else per}")
    return ", ".join(parts)


def reliability_rows() -> list[dict]:
    """One dict per limit: surface, limit, response, test (a pytest node id)."""
    return [
        {
            "surface": "Login (allauth, POST /accounts/login/)",
            "limit": _allauth("login"),
            "response": "429 + page “Too many attempts … Nothing is locked”",
            "test": f"{_RL}::test_login_posts_over_the_per_ip_limit_get_the_429_page_then_work_again",
        },
        {
            "surface": "Failed logins (allauth)",
            "limit": f"{_allauth('login_failed')} (key: the login)",
            "response": "form error “Too many failed login attempts. Try again later.”; account untouched",
            "test": f"{_RL}::test_failed_logins_over_the_per_account_limit_are_refused_without_locking_the_account",
        },
        {
            "surface": "Admin login (POST /admin/login/, allauth's limiter)",
            "limit": f"{_allauth('admin_login')} (key: the username)",
            "response": "429 + page “Too many admin sign-in attempts … Nothing is locked”; no login, even with the right password",
            "test": f"{_RL}::test_admin_logins_over_the_limit_get_a_429_and_the_right_password_does_not_get_in",
        },
        {
            "surface": "Signup (allauth, POST /accounts/signup/)",
            "limit": _allauth("signup"),
            "response": "429 + page “Too many attempts”; no user created",
            "test": f"{_RL}::test_signups_over_the_per_ip_limit_get_the_429_page_and_create_nobody",
        },
        {
            "surface": "Password reset request (allauth)",
            "limit": f"{_allauth('reset_password')} (key: the e-mail)",
            "response": "429 + page “Too many attempts”; no e-mail sent",
            "test": f"{_RL}::test_password_reset_requests_over_the_per_address_limit_get_429_and_send_nothing",
        },
        {
            "surface": "Chat (room `chat` action)",
            "limit": f"{_rate('LIVEMARKET_CHAT_RATE')} per user and show",
            "response": "`error` event `rate_limited` “Slow down: at most N messages every S seconds.”; nothing saved",
            "test": f"{_RL}::test_over_the_limit_in_the_room_chat_and_bids_get_the_exact_error_event_and_change_nothing",
        },
        {
            "surface": "Bids (room `bid` action, POST /shows/<id>/lots/<lot>/bid/)",
            "limit": f"{_rate('LIVEMARKET_BID_RATE')} per bidder and lot",
            "response": "429 JSON `{code: rate_limited, message}` (socket: `error` event); lot unchanged",
            "test": f"{_RL}::test_bids_by_post_over_the_limit_get_429_json_and_change_no_lot",
        },
        {
            "surface": "Buy now (POST /shows/<id>/buy/)",
            "limit": f"{_rate('LIVEMARKET_BUY_NOW_RATE')} per shopper",
            "response": "429 + message “Too many buy-now presses …”, Retry-After; no hold, no stock taken",
            "test": f"{_RL}::test_buy_now_over_the_limit_gets_429_and_holds_nothing",
        },
        {
            "surface": "Media server callbacks (/streams/on_publish, on_update, on_publish_done)",
            "limit": f"{_rate('LIVEMARKET_STREAM_HOOK_RATE')} per IP",
            "response": "429 JSON `{code: rate_limited, message}`, Retry-After; show unchanged",
            "test": f"{_RL}::test_stream_callbacks_over_the_per_ip_limit_get_429_and_leave_the_show_alone",
        },
        {
            "surface": "Payment webhooks (/payments/webhooks/<gateway>/)",
            "limit": f"{_rate('LIVEMARKET_PAYMENT_WEBHOOK_RATE')} per IP and gateway",
            "response": "429 JSON `{code: rate_limited, message}`, Retry-After; no event recorded",
            "test": f"{_RL}::test_payment_webhooks_over_the_per_ip_limit_get_429_and_record_nothing",
        },
        {
            "surface": "New API keys (admin)",
            "limit": f"{_rate('LIVEMARKET_CREDENTIAL_CREATE_RATE')} per user (shared with webhook endpoints)",
            "response": "429 + admin page “Too many new API keys … Nothing was saved”",
            "test": f"{_RL}::test_new_api_keys_over_the_per_user_limit_get_a_429_page_and_make_no_key",
        },
        {
            "surface": "New webhook endpoints (admin, POST /api/v1/merchant/webhook-endpoints/)",
            "limit": f"{_rate('LIVEMARKET_CREDENTIAL_CREATE_RATE')} per user (shared with API keys)",
            "response": "429 JSON `{code: throttled, message}` (admin: 429 page); nothing created",
            "test": f"{_RL}::test_new_webhook_endpoints_over_the_per_user_limit_get_429_in_the_api_and_the_admin",
        },
        {
            "surface": "Wrong API keys (/api/v1/, Authorization or X-Api-Key)",
            "limit": f"{_rate('LIVEMARKET_API_KEY_FAILURE_RATE')} wrong keys per IP",
            "response": "401 each, then 429 JSON `{code: throttled, message}` for any key from that IP; no key revoked",
            "test": f"{_RL}::test_wrong_api_keys_over_the_per_ip_limit_get_429_without_revoking_anything",
        },
        {
            "surface": "REST API (/api/v1/, every call)",
            "limit": "{api_key} per API key, {user} per user, {anon} per IP".format(**_api_rates()),
            "response": "429 JSON `{code: throttled, message}`, Retry-After",
            "test": "tests/api/test_throttling.py::test_each_key_has_its_own_budget",
        },
    ]


def _api_rates() -> dict:
    from django.conf import settings

    return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
