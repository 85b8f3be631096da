// tuned 2.20's latency profiles (Debian's tuned 2.20.0-1, /usr/lib/tuned/<profile>/tuned.conf,
// comments removed): what the doctor compares against when tuned is not installed. A table, so
// exempt from the function-length rule; Tests/python/test_doctor_tuned.py checks that it parses
// to the same settings as the installed files.
extension TunedProfiles {
    static let builtInText: [String: String] = [
        "latency-performance": """
            [main]
            summary=Optimize for deterministic performance at the cost of increased power consumption
            [cpu]
            force_latency=cstate.id_no_zero:1|3
            governor=performance
            energy_perf_bias=performance
            min_perf_pct=100
            [sysctl]
            vm.dirty_ratio=10
            vm.dirty_background_ratio=3
            vm.swappiness=10
            """,
        "network-latency": """
            [main]
            summary=Optimize for deterministic performance at the cost of increased power consumption, focused on low latency network performance
            include=latency-performance
            [vm]
            transparent_hugepages=never
            [sysctl]
            net.core.busy_read=50
            net.core.busy_poll=50
            net.ipv4.tcp_fastopen=3
            kernel.numa_balancing=0
            [bootloader]
            cmdline_network_latency=skew_tick=1
            """,
        "cpu-partitioning": """
            [main]
            summary=Optimize for CPU partitioning
            include=network-latency
            [variables]
            include=/etc/tuned/cpu-partitioning-variables.conf
            isolated_cores_assert_check = \\\\${isolated_cores}
            isolated_cores = ${isolated_cores}
            assert1=${f:assertion_non_equal:isolated_cores are set:${isolated_cores}:${isolated_cores_assert_check}}
            tmpdir=${f:strip:${f:exec:mktemp:-d}}
            isolated_cores_expanded=${f:cpulist_unpack:${isolated_cores}}
            isolated_cpumask=${f:cpulist2hex:${isolated_cores_expanded}}
            not_isolated_cores_expanded=${f:cpulist_invert:${isolated_cores_expanded}}
            isolated_cores_online_expanded=${f:cpulist_online:${isolated_cores}}
            not_isolated_cores_online_expanded=${f:cpulist_online:${not_isolated_cores_expanded}}
            not_isolated_cpumask=${f:cpulist2hex:${not_isolated_cores_expanded}}
            no_balance_cores=${no_balance_cores}
            no_balance_cores_expanded=${f:cpulist_unpack:${no_balance_cores}}
            assert2=${f:assertion:isolated_cores contains online CPU(s):${isolated_cores_expanded}:${isolated_cores_online_expanded}}
            cmd_isolcpus=${f:regex_search_ternary:${no_balance_cores}:\\s*[0-9]: isolcpus=${no_balance_cores}:}
            [sysctl]
            kernel.hung_task_timeout_secs = 600
            kernel.nmi_watchdog = 0
            vm.stat_interval = 10
            kernel.timer_migration = 0
            [sysfs]
            /sys/bus/workqueue/devices/writeback/cpumask = ${not_isolated_cpumask}
            /sys/devices/virtual/workqueue/cpumask = ${not_isolated_cpumask}
            /sys/devices/virtual/workqueue/*/cpumask = ${not_isolated_cpumask}
            /sys/devices/system/machinecheck/machinecheck*/ignore_ce = 1
            [systemd]
            cpu_affinity=${not_isolated_cores_expanded}
            [irqbalance]
            banned_cpus=${isolated_cores}
            [script]
            priority=5
            script=${i:PROFILE_DIR}/script.sh
            [scheduler]
            isolated_cores=${isolated_cores}
            ps_blacklist=.*pmd.*;.*PMD.*;^DPDK;.*qemu-kvm.*;^contrail-vroute$;^lcore-slave-.*;^rte_mp_handle$;^rte_mp_async$;^eal-intr-thread$
            [bootloader]
            priority=10
            initrd_remove_dir=True
            initrd_dst_img=tuned-initrd.img
            initrd_add_dir=${tmpdir}
            cmdline_cpu_part=+nohz=on${cmd_isolcpus} nohz_full=${isolated_cores} rcu_nocbs=${isolated_cores} tuned.non_isolcpus=${not_isolated_cpumask} intel_pstate=disable nosoftlockup
            """,
        "realtime": """
            [main]
            summary=Optimize for realtime workloads
            include = network-latency
            [variables]
            include = /etc/tuned/realtime-variables.conf
            isolated_cores_assert_check = \\\\${isolated_cores}
            isolated_cores = ${isolated_cores}
            assert1=${f:assertion_non_equal:isolated_cores are set:${isolated_cores}:${isolated_cores_assert_check}}
            not_isolated_cpumask = ${f:cpulist2hex_invert:${isolated_cores}}
            isolated_cores_expanded=${f:cpulist_unpack:${isolated_cores}}
            isolated_cpumask=${f:cpulist2hex:${isolated_cores_expanded}}
            isolated_cores_online_expanded=${f:cpulist_online:${isolated_cores}}
            assert2=${f:assertion:isolated_cores contains online CPU(s):${isolated_cores_expanded}:${isolated_cores_online_expanded}}
            isolate_managed_irq = ${isolate_managed_irq}
            managed_irq=${f:regex_search_ternary:${isolate_managed_irq}:\\b[y,Y,1,t,T]\\b:managed_irq,domain,:}
            [net]
            channels=combined ${f:check_net_queue_count:${netdev_queue_count}}
            [sysctl]
            kernel.hung_task_timeout_secs = 600
            kernel.nmi_watchdog = 0
            kernel.sched_rt_runtime_us = -1
            vm.stat_interval = 10
            kernel.timer_migration = 0
            [sysfs]
            /sys/bus/workqueue/devices/writeback/cpumask = ${not_isolated_cpumask}
            /sys/devices/virtual/workqueue/cpumask = ${not_isolated_cpumask}
            /sys/devices/virtual/workqueue/*/cpumask = ${not_isolated_cpumask}
            /sys/devices/system/machinecheck/machinecheck*/ignore_ce = 1
            [bootloader]
            cmdline_realtime=+isolcpus=${managed_irq}${isolated_cores} intel_pstate=disable nosoftlockup tsc=reliable
            [irqbalance]
            banned_cpus=${isolated_cores}
            [script]
            script = ${i:PROFILE_DIR}/script.sh
            [scheduler]
            isolated_cores=${isolated_cores}
            [rtentsk]
            """,
    ]
}
