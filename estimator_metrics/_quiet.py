"""Keeps TensorFlow's log noise out of command-line output; imports TensorFlow only when called."""

import os
import warnings


def quiet_tensorflow() -> None:
    """Keeps TensorFlow's C++ and Python log noise out of the output.

    Call it before TensorFlow is first imported: the C++ level is read once, at import.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message=r".* is deprecated and will be removed")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
