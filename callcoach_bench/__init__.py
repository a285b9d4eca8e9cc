"""callcoach's benchmarks and synthetic-data tools, kept out of the runtime package.

`callcoach bench ...` loads these modules by name; they need the ``bench`` extra (scikit-image for the
benchmark's portrait, scipy for the face warps): ``pip install 'callcoach[bench]'``. The runtime package
imports nothing from here except the practice drills' ``--faces`` option, which warps the user's photos
with the benchmark's facial actions.
"""
