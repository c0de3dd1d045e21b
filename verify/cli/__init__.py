"""The command line: the parser, one function per command, text/JSON rendering, the demo.
"""
