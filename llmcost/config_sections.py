"""Validators of the llmcost.yaml sections owned by the core.

Other sections are registered by the modules that use them (see config.SECTION_MODULES).
"""
