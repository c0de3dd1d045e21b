"""Files in and out: data sets, model files (npz, safetensors, PyTorch), atomic writes.
"""
