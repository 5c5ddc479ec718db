"""Desired launch settings (issue 16): the model, how a server's settings resolve, the diff, the checks.

Pure, stdlib only. ``model`` holds what a plan stores; ``checks`` what a plan's settings may hold;
``current`` what the server has now (DRS launch configuration, default template version); ``resolve``
which layer decides each field for one server; ``diff`` what would change, split by the call that
changes it (DRS UpdateLaunchConfiguration, or a new EC2 launch template version).
"""
