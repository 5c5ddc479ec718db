"""DRS's native recovery plans, seen from a local plan: the steps, whether a plan fits, the nearest plan
that does, the calls that make a native plan match, drift, and import.

Pure stdlib, like all of ``domain``: the AWS calls and the publish/import services build on this.
"""
