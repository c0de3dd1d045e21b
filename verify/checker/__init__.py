"""THE TRUSTED KERNEL: re-checks a certificate in exact arithmetic (docs/certificate.md).
"""
