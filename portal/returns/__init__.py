"""Returned and exchanged goods as records (RMA): ``records`` (the steps, each signed and
guarded), ``clocks`` (each step's deadline), ``evidence`` (the appraisal's photos),
``supplier`` (a purchased reject's corrective action request), ``printout`` (the warranty
return appraisal form as PDF) and ``demo``."""
