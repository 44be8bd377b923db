//! Flag analysis: turns scored results of the current and baseline samples
//! into the job summary and its drift, regression and hallucination flags.
