"""The callback through which an estimator's training keeps scikit-learn's MLP attributes.

``loss_curve_``, ``n_iter_``, ``validation_scores_``, ``best_validation_score_`` and
``best_loss_`` are updated every epoch, and training stops as the MLP stops. With
``early_stopping`` the epoch's validation score is also written to the epoch's logs as
``val_accuracy`` (a classifier) or ``val_r2`` (a regressor): ``fit`` runs this callback
before the estimator's ``callbacks``, so the progress line, the loggers, EarlyStopping and
ModelCheckpoint see it.
"""

from __future__ import annotations

from ..callbacks import Callback

__all__ = ["FitMonitor"]


class FitMonitor(Callback):
    """Record each epoch's cost, score the validation set and stop when progress stalls.

    Stops like scikit-learn's MLP: after ``n_iter_no_change`` epochs in a row without an
    improvement of at least ``tol`` (of the training cost, or of the validation score when
    ``validation`` is given). With validation, the best parameters are restored at the end.
    """

    def __init__(self, estimator, validation, stop: bool):
        self.est = estimator
        self.validation = validation
        self.stop = stop
        self.best_flat = None
        self.best_epoch = None  # the epoch (from 0) whose validation score best_flat holds

    def on_epoch_end(self, epoch, logs):
        est = self.est
        cost = float(logs["cost"])
        est.loss_curve_.append(cost)
        est.n_iter_ += 1
        if self.validation is not None:
            score = est._validation_score(self.network, *self.validation)
            est.validation_scores_.append(score)
            # for the callbacks after this one: the progress line, the loggers, and an
            # EarlyStopping or ModelCheckpoint monitoring val_accuracy (which fell back to the
            # training accuracy without it)
            metric = "accuracy" if "accuracy" in logs else "r2" if "r2" in logs else \
                ("accuracy" if hasattr(est, "classes_") else "r2")
            logs[f"val_{metric}"] = score
            improved = score > est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_flat = self.network.parameters.flat.copy()
                self.best_epoch = epoch
        else:
            improved = cost < est.best_loss_ - est.tol
        est.best_loss_ = min(est.best_loss_, cost)  # the lowest training cost, in every mode
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        # more than n_iter_no_change, as scikit-learn's MLP (its _fit_stochastic)
        if self.stop and est._no_improvement_count > est.n_iter_no_change:
            self.trainer.stop_training = True
            self.trainer.stop_reason = (
                f"no improvement of at least tol={est.tol} in {est._no_improvement_count} "
                f"epochs (more than n_iter_no_change={est.n_iter_no_change})"
            )

    def on_train_end(self, logs):
        if self.best_flat is not None:
            self.network.parameters.flat[...] = self.best_flat
