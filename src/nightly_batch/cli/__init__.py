"""The command line: the grammar (argparse), one module per command group, and the only place
that turns errors into exit codes. Top of the stack: may import anything, and imports each
command's modules only when that command runs.
"""
