"""Build-time tools, managed by generator-sci-eb (`sci-eb upgrade` keeps them current): schema derivation, ONNX
conversion, the model importer and the EB bundle tools. They run on the developer's machine (train.py, make import,
make bundle/local/deploy) and never on Elastic Beanstalk: `.ebignore` keeps this package out of the bundle, and the
service (serving/) never imports it. Imports point one way only: tools may use serving, serving never uses tools.
"""
