"""Small dense float64 linear algebra for the strategies, as src/core/linalg: rank-revealing solves,
Jacobi eigendecomposition, Wolfe's exact min-norm point, CAGrad's simplex problem and the
non-negative QP of UPGrad. Matrices are K×K with K the number of tasks (K <= 32).
"""

from .eigen import SymmetricEigen, pseudo_inverse_solve, symmetric_eigen
from .gram import check_gram, gram_matrix
from .minnorm import MinNormResult, min_norm_point
from .nnls import BoundedQpResult, cholesky_factor_in_place, cholesky_solve_factored, solve_nonnegative_qp
from .simplex import SimplexSolveResult, minimize_linear_plus_norm_on_simplex
from .solve import DEFAULT_RANK_TOLERANCE, SolveResult, solve_general, solve_psd

__all__ = [
    "DEFAULT_RANK_TOLERANCE",
    "BoundedQpResult",
    "MinNormResult",
    "SimplexSolveResult",
    "SolveResult",
    "SymmetricEigen",
    "check_gram",
    "cholesky_factor_in_place",
    "cholesky_solve_factored",
    "gram_matrix",
    "min_norm_point",
    "minimize_linear_plus_norm_on_simplex",
    "pseudo_inverse_solve",
    "solve_general",
    "solve_nonnegative_qp",
    "solve_psd",
    "symmetric_eigen",
]
