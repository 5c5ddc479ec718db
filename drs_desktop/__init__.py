"""DRS Desktop: recovery plans, drills and recoveries for AWS Elastic Disaster Recovery."""

__version__ = "0.1.0"
APP_NAME = "DRS Desktop"
APP_ID = "drs-desktop"
