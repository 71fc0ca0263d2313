"""A Python 2 leftover: migrate reports it and leaves it untouched."""
import tensorflow as tf


def model_fn(features, labels, mode):
    print "building the model"
    return tf.metrics.accuracy(labels, features["predictions"])
