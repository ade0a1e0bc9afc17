"""The shell: typed configuration, the buzon command line, the scheduler process and the demo."""
