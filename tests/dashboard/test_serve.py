"""``riskmap serve``: what it does before the app starts."""


def test_serve_readies_the_compiled_kernels_before_the_app_starts(monkeypatch):
    import argparse

    import geo.assign
    from dashboard import cli

    order = []
    monkeypatch.setattr(geo.assign, "compile_kernels", lambda: order.append("compile"))
    monkeypatch.setattr(cli, "_first_accounts", lambda *a, **k: None)
    monkeypatch.setattr(cli.subprocess, "call", lambda *a, **k: order.append("serve") or 0)
    assert cli._cmd_serve(argparse.Namespace(port=8599, address="127.0.0.1")) == 0
    assert order == ["compile", "serve"]
