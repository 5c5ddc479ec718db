"""Unattended scheduled drills (issue 18, item 4): the schedule, when it is due, and the entries the
operating system's schedulers read (systemd, cron, Task Scheduler, launchd). Pure, stdlib only."""
